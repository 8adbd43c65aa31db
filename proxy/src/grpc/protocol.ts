/**
 * The apache.rocketmq.v2 contract, as static protobufjs code generated at build time from the
 * pinned rocketmq-client-nodejs package (see proxy/scripts/gen-proto.sh). Import protocol types
 * from here, never from the generated folder, so the generator can change in one place.
 */
import { apache } from '../../gen/proto/rocketmq.js';

export const v2 = apache.rocketmq.v2;
export { apache };
