/* Stand-in of the project's "serial-console" (device/serial/esp32.ts): counts the consoles opened. */
import {sharedState} from "./stand-in-state";
export const serialConsoles = sharedState("serialConsoles", (): object[] => []);

export function openSerialConsole(): unknown {
	const console = {opened: serialConsoles.length + 1};
	serialConsoles.push(console);
	return console;
}
