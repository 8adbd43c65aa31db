/**
 * Why a pass stops short: a spec the operator will not act on, or something outside it that is broken.
 * The reconciler turns every Problem into the same three things (a Warning Event, Ready=False and
 * Degraded=True with this reason, and the return), so each check only has to say what is wrong.
 */
export interface Problem {
  reason: string;
  message: string;
  /** Look again after this long (something outside the spec may fix it); default: on the next change. */
  requeueAfterMs?: number;
}
