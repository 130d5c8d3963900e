/*
 * "device-platform" for main.ts in the tests: the esp32 platform (device/esp32/platform.ts) on the
 * chip, flash and FFI stand-ins. The lin platform is tested directly (tests/device-lin-platform.test.ts).
 * JavaScript, so that the host type check (tsconfig.json) does not follow it into device code.
 */
export {openPlatform} from "../../../device/esp32/platform.ts";
