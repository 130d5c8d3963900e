import assert from "node:assert/strict";
import {VirtualTimers} from "../../host/adapters/virtual-timers";
import {OtaFetcher, type Publisher} from "../../ota/fetcher";
import type {PublishDone} from "../../rainmaker/ports";
import {RecordingLog} from "../support/recording-log";

/** A publisher that records when each otafetch went out; the test decides what happens to it. */
class ScriptedPublisher implements Publisher {
	readonly sent: {at: number; done?: PublishDone}[] = [];
	readonly #timers: VirtualTimers;
	readonly #answer: "never" | "fail" | "puback";
	constructor(timers: VirtualTimers, answer: "never" | "fail" | "puback") {
		this.#timers = timers;
		this.#answer = answer;
	}
	publish(suffix: string, rule: string, payload: string, done?: PublishDone): void {
		assert.equal(suffix, "otafetch");
		assert.equal(rule, "esp_node_otafetch");
		assert.deepEqual(JSON.parse(payload), {node_id: "n1", fw_version: "1.0.0"});
		this.sent.push({at: this.#timers.now(), done});
		if (this.#answer === "fail") this.#timers.set(() => done?.(new Error("not connected")), 0);
		else if (this.#answer === "puback") this.#timers.set(() => done?.(), 10);
	}
}

function secondsBetween(sent: {at: number}[]): number[] {
	return sent.slice(1).map((entry, i) => (entry.at - sent[i].at) / 1000);
}

describe("otafetch reliability (virtual clock)", () => {
	it("retries after a missing PUBACK: 60 s timeout, then 30, 60, 120, 240, 480, 480 s", () => {
		const timers = new VirtualTimers();
		const publisher = new ScriptedPublisher(timers, "never");
		const fetcher = new OtaFetcher(publisher, timers, new RecordingLog(), "n1", "1.0.0");
		fetcher.fetch();
		timers.advance(8 * 3600 * 1000);
		assert.deepEqual(secondsBetween(publisher.sent).slice(0, 7), [90, 120, 180, 300, 540, 540, 540]);
	});

	it("retries after failed publishes (link down): 30, 60, 120, 240, 480, 480 s; a PUBACK resets the count", () => {
		const timers = new VirtualTimers();
		const publisher = new ScriptedPublisher(timers, "fail");
		const fetcher = new OtaFetcher(publisher, timers, new RecordingLog(), "n1", "1.0.0");
		fetcher.fetch();
		timers.advance(1500 * 1000);
		assert.deepEqual(secondsBetween(publisher.sent), [30, 60, 120, 240, 480, 480]);
		assert.equal(fetcher.retries, 7);
	});

	it("a fetch while one waits for its PUBACK sends nothing; the earliest of several delayed fetches wins", () => {
		const timers = new VirtualTimers();
		const publisher = new ScriptedPublisher(timers, "never");
		const log = new RecordingLog();
		const fetcher = new OtaFetcher(publisher, timers, log, "n1", "1.0.0");
		fetcher.fetch();
		fetcher.fetch();
		assert.equal(publisher.sent.length, 1);
		assert.ok(log.messages("info").includes("OTA fetch already in progress. Skipping."));
		publisher.sent[0].done?.();
		fetcher.fetchWithDelay(5);
		fetcher.fetchWithDelay(1);
		fetcher.fetchWithDelay(3);
		timers.advance(1000);
		assert.equal(publisher.sent.length, 2);
		publisher.sent[1].done?.();
		timers.advance(10_000);
		assert.equal(publisher.sent.length, 2, "the later requests were merged into the earliest");
		assert.equal(fetcher.retries, 0);
	});

	it("ignores a PUBACK that arrives after the timeout", () => {
		const timers = new VirtualTimers();
		const publisher = new ScriptedPublisher(timers, "never");
		const fetcher = new OtaFetcher(publisher, timers, new RecordingLog(), "n1", "1.0.0");
		fetcher.fetch();
		timers.advance(60_000);
		assert.equal(fetcher.retries, 1);
		publisher.sent[0].done?.();
		assert.equal(fetcher.retries, 1);
		timers.advance(30_000);
		assert.equal(publisher.sent.length, 2);
	});
});
