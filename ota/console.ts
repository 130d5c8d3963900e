/*
 * The `ota` console command. One handler for every console: the device wires it to Moddable's CLI
 * (serial Console and telnet), the host simulator to stdin.
 */
import type {Approval} from "./approval";

export const OTA_USAGE = "Usage: ota <check|start|status>";
export const OTA_HELP: readonly string[] = Object.freeze([
	"ota check   check for an OTA update (the offer shows in Info, waiting for approval)",
	"ota start   approve the offered update: fetch it again and install it",
	"ota status  the update state, what is offered, what runs, the last status",
]);

export function otaCommand(ota: Approval, args: readonly string[], print: (line: string) => void): boolean {
	const argument = args[0]?.toLowerCase();
	switch (argument) {
		case "check":
		case "start": {
			const result = argument === "check" ? ota.check() : ota.start();
			print(result.ok ? result.message : `Error: ${result.message}`);
			return result.ok;
		}
		case "status":
			for (const line of ota.statusLines()) print(line);
			return true;
		case undefined:
			print("Error: Invalid arguments. Use 'ota check', 'ota start' or 'ota status'.");
			break;
		default:
			print(`Error: Unknown argument: ${args[0]}. Use 'check', 'start' or 'status'.`);
	}
	print(OTA_USAGE);
	return false;
}
