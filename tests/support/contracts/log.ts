/*
 * The Log contract (rainmaker/ports.ts), for every adapter: each call writes one whole line with
 * the message, and a warning or an error says which it is.
 */
import {strict as assert} from "node:assert";
import type {Log} from "../../../rainmaker/ports";

export interface LogSubject {
	readonly log: Log;
	/** Everything the adapter wrote so far, as written. */
	written(): string[];
}

export function logContract(name: string, subject: () => Promise<LogSubject>): void {
	describe(`Log contract (rainmaker/ports.ts): ${name}`, () => {
		it("writes one line per call with the message; warnings and errors are marked as such", async () => {
			const s = await subject();
			const before = s.written().length;
			s.log.info("the node started");
			s.log.warn("the broker is slow");
			s.log.error("the download failed");
			const lines = s.written().slice(before).join("").split("\n");
			assert.equal(lines.pop(), "", "each line ends with a newline");
			assert.equal(lines.length, 3, JSON.stringify(lines));
			assert.match(lines[0], /the node started/);
			assert.doesNotMatch(lines[0], /warn|error/i);
			assert.match(lines[1], /warning.*the broker is slow/i);
			assert.match(lines[2], /error.*the download failed/i);
		});
	});
}
