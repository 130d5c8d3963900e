/*
 * The module mapped as "device-platform" in lin builds. A re-export by bare specifier: mcconfig
 * registers each source file once, so device/lin/platform.ts (already the module
 * "device/lin/platform") cannot also be "device-platform", and relative imports would resolve
 * against the mapped name.
 */
export {openPlatform} from "device/lin/platform";
