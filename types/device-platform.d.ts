/*
 * "device-platform": the project's per-platform module (manifest.json: device/esp32/platform on
 * esp32, device/lin/platform on lin). An ambient module cannot import the DevicePlatform type from
 * device/platform.ts, so the result is declared as an object and main.ts states its type; both
 * implementations are checked against DevicePlatform where they are written.
 */
declare module "device-platform" {
	export function openPlatform(log: {
		info(message: string): void;
		warn(message: string): void;
		error(message: string): void;
	}): object;
}
