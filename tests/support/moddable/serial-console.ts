/* Stand-in of the project's "serial-console" (device/esp32/serial-console.ts): counts the consoles opened. */
import {sharedState} from "./shared";
export const serialConsoles = sharedState("serialConsoles", (): object[] => []);

export function openSerialConsole(): unknown {
	const console = {opened: serialConsoles.length + 1};
	serialConsoles.push(console);
	return console;
}
