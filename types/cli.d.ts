/*
 * Moddable's command registry "cli" (modules/base/cli/cli.js; SDK 8.2.3), untyped in the SDK.
 * Handlers get the first word lower-cased and the other words (quotes respected); `this` is the
 * console or telnet connection. "help" is offered to every handler (CLI.distribute).
 */
declare module "cli" {
	export interface CLIOutput {
		line(...items: string[]): void;
		write(...items: string[]): void;
	}
	/** Returns true when the command was handled. */
	export type CLIHandler = (this: CLIOutput, command: string, parts: string[]) => boolean | void;
	const CLI: {
		install(handler: CLIHandler): void;
		execute(this: CLIOutput, line: string): void;
		split(line: string): string[];
	};
	export default CLI;
}
