/** Where a command writes its lines: standard output and standard error, or a test's recorder. */
export interface CommandOutput {
	out(line: string): void;
	err(line: string): void;
}

/** The process's own standard output and standard error. */
export const consoleOutput: CommandOutput = {
	out: line => process.stdout.write(line + "\n"),
	err: line => process.stderr.write(line + "\n"),
};
