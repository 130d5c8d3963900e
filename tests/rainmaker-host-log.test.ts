import assert from "node:assert/strict";
import {HostLog} from "../host/adapters/log";

describe("host log adapter", () => {
	function sinks(): {
		out: string[];
		err: string[];
		options: {out: {write(text: string): void}; err: {write(text: string): void}};
	} {
		const out: string[] = [];
		const err: string[] = [];
		return {out, err, options: {out: {write: text => out.push(text)}, err: {write: text => err.push(text)}}};
	}

	it("writes prefixed lines: info to the out stream, warnings and errors to the error stream", () => {
		const {out, err, options} = sinks();
		const log = new HostLog("[node-1]", options);
		log.info("started");
		log.warn("link lost");
		log.error("bad image");
		assert.deepEqual(out, ["[node-1] started\n"]);
		assert.deepEqual(err, ["[node-1] warning: link lost\n", "[node-1] error: bad image\n"]);
	});

	it("drops info lines when quiet", () => {
		const {out, err, options} = sinks();
		const log = new HostLog("[n]", {...options, quiet: true});
		log.info("chatter");
		log.warn("kept");
		assert.deepEqual(out, []);
		assert.deepEqual(err, ["[n] warning: kept\n"]);
	});
});
