/*
 * Stand-in of Moddable's "cli" (modules/base/cli/cli.js), the same registry logic: handlers are
 * tried last-installed first until one returns true ("Unknown command" otherwise), "help" goes to
 * every handler, words are split with quotes respected, an exception is printed as a line.
 */
import {sharedState} from "./stand-in-state";
export interface CLIOutput {
	line(...items: string[]): void;
	write(...items: string[]): void;
}

type Handler = (this: CLIOutput, command: string, parts: string[]) => boolean | void;

const CLI = sharedState("cli", () => ({
	handlers: [] as Handler[],

	install(handler: Handler): void {
		this.handlers = this.handlers.concat(handler);
	},

	execute(this: CLIOutput, incoming: string): void {
		if (!incoming) return;
		try {
			const parts = CLI.split(incoming);
			if (!parts.length) return;
			const command = (parts.shift() as string).toLowerCase();
			if (command !== "help") {
				let found: boolean | void = false;
				for (let i = CLI.handlers.length - 1; !found && i >= 0; i--)
					found = CLI.handlers[i].call(this, command, parts);
				if (!found) this.line(`Unknown command: ${command}`);
			} else CLI.handlers.forEach(handler => handler.call(this, command, parts));
		} catch (error) {
			this.line(String(error));
		}
	},

	split(text: string): string[] {
		const parts: string[] = [];
		let line: string | undefined = text.trim();
		while (line) {
			const c = line.charAt(0);
			let end = " ";
			let start = 0;
			if (c === '"' || c === "'") {
				end = c;
				start = 1;
			}
			const index = line.indexOf(end, 1);
			if (index > 0) {
				parts.push(line.substring(start, index));
				line = line.substring(index + 1).trim();
			} else {
				parts.push(line.substring(start));
				line = undefined;
			}
		}
		return parts;
	},
}));

// the built-in handler, installed once per process (the registry is shared, see shared.ts)
if (!CLI.handlers.length)
	CLI.install(function (command) {
		if (command === "help") {
			this.line("date - display date and time");
			this.line("version - display CLI version number");
			return false;
		}
		if (command === "version") {
			this.line("0.1");
			return true;
		}
		return false;
	});

export default CLI;
