// The panel's messages, as the browser side names them: defined once in app/panelProtocol.ts,
// where the host's PanelSession (app/panelSession.ts) reads them too.
export * from '../app/panelProtocol';
