/* lin stand-in of device/esp32/serial-console.ts ("serial-console"): the simulator has no serial console (use telnet). */
export function openSerialConsole(): unknown {
	return undefined;
}
