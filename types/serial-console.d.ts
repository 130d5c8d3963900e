/*
 * "serial-console": the project's per-platform module that opens the serial Console
 * (manifest.json: device/serial/esp32 on esp32, device/stand-ins/serial-console on lin, which
 * has none: the lin console is standard input, device/lin/platform.ts).
 */
declare module "serial-console" {
	/** Returns the console object, or undefined where the platform has none. */
	export function openSerialConsole(): unknown;
}
