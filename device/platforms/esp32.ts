/*
 * The module mapped as "device-platform" in esp32 builds (see device/platforms/lin.ts for why it
 * is a re-export by bare specifier).
 */
export {openPlatform} from "device/esp32/platform";
