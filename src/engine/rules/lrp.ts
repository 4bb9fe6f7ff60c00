// LRP's composite (the paper's LRP baseline): FG-CAM's rules plus the dense head's, z+ on the
// dense layers (the same z+ over a linear map), flatten and reshape giving the relevance its
// input's shape back. Started from y_c at the logit.
import type { Composite, Rule } from '../compile/reverse';
import { fromFlat, toFlat } from '../compile/forward';
import { FGCAM_RULES, linearRule } from './fgcam';

/** Flatten / reshape: the relevance takes the input's shape back. */
const unflatten: Rule = ({ b, node, rOut, inShapes }) => [fromFlat(b, toFlat(b, rOut, node.outputShape), inShapes[0])];

export const LRP: Composite = { name: 'LRP', rules: { ...FGCAM_RULES, dense: linearRule, flatten: unflatten, reshape: unflatten } };
