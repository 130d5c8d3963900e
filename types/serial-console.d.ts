/*
 * "serial-console": the project's per-platform module that opens the serial Console
 * (manifest.json: device/esp32/serial-console on esp32, device/stand-ins/serial-console on lin).
 */
declare module "serial-console" {
	/** Returns the console object, or undefined where the platform has none. */
	export function openSerialConsole(): unknown;
}
