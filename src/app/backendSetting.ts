// The fgcam.backend setting's check, on its own: the extension host imports it without the
// rest of the options vocabulary (which loads the model readers).
export { backendSetting } from '../engine/backend-names';
