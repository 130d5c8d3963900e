/*
 * Console wiring: the firmware's command handler becomes a Moddable CLI handler, reachable over
 * telnet when configured (off by default), and over the serial Console where the build has one
 * (instrumented builds: the Console polls ESP_getc, which is dead in release builds and carries
 * xsbug in debug builds; docs/moddable.md §9.2). The Console module is passed in by main.ts only on esp32.
 */
import CLI from "cli";
import Telnet from "telnet";
import type {CLIOutput} from "cli";

/** The shape of Firmware.command (ota/firmware.ts). */
export type CommandHandler = (name: string, args: readonly string[], print: (line: string) => void) => boolean;

export interface ConsoleOptions {
	/** TCP port of the telnet CLI; 0 = no telnet (the default: it has no authentication). */
	readonly telnetPort: number;
	/** Address the telnet listener binds (lwIP honours it; the lin Listener binds every interface). */
	readonly telnetAddress?: string;
	/** Creates the serial console (Moddable's `console`), when the build has one. */
	readonly openSerial?: () => unknown;
}

export interface ConsoleHandles {
	readonly telnet?: Telnet;
	readonly serial?: unknown;
}

/** Adapts a command handler to CLI.install's calling convention (this = the connection). */
export function cliHandler(command: CommandHandler): (this: CLIOutput, name: string, parts: string[]) => boolean {
	return function (this: CLIOutput, name: string, parts: string[]): boolean {
		const output = this;
		return command(name, parts, line => output.line(line));
	};
}

export function installConsole(command: CommandHandler, options: ConsoleOptions): ConsoleHandles {
	CLI.install(cliHandler(command));
	const telnet = options.telnetPort
		? new Telnet(
				options.telnetAddress
					? ({port: options.telnetPort, address: options.telnetAddress} as {port: number})
					: {port: options.telnetPort},
			)
		: undefined;
	const serial = options.openSerial?.();
	return {telnet, serial};
}
