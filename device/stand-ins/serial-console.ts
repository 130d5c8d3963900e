/* lin stand-in of device/serial/esp32.ts ("serial-console"): the simulator has no serial console (its console is standard input, device/lin/platform.ts). */
export function openSerialConsole(): unknown {
	return undefined;
}
