/*
 * otafetch with the reference's reliability rules (docs/protocol.md §5.5): one fetch at a time
 * (a fetch whose PUBACK is outstanding makes later calls no-ops), a 60 s PUBACK timeout, and
 * retries after 30, 60, 120, 240, 480 s, then every 480 s, when the PUBACK does not come or the
 * publish fails (link down, broker refused).
 */
import type {Log, PublishDone, TimerHandle, Timers} from "../rainmaker/ports";
import {RULE_OTA_FETCH, SUFFIX_OTA_FETCH} from "../rainmaker/topics";

/** The part of the node agent the OTA code publishes through. */
export interface Publisher {
	publish(suffix: string, rule: string, payload: string, done?: PublishDone): void;
}

export const FETCH_PUBACK_TIMEOUT_SECONDS = 60;
export const FETCH_RETRY_BASE_SECONDS = 30;
export const FETCH_MAX_BACKOFF_STEPS = 5;

export class OtaFetcher {
	#publisher: Publisher;
	#timers: Timers;
	#log: Log;
	#payload: string;
	#pending: TimerHandle | undefined;
	#pendingAt = 0;
	#waiting: TimerHandle | undefined; // PUBACK timeout of the fetch in flight
	#attempt = 0; // identifies the fetch in flight, so a late PUBACK of an abandoned one is ignored
	#retries = 0;

	constructor(publisher: Publisher, timers: Timers, log: Log, nodeId: string, fwVersion: string) {
		this.#publisher = publisher;
		this.#timers = timers;
		this.#log = log;
		this.#payload = JSON.stringify({node_id: nodeId, fw_version: fwVersion});
	}

	/** True while a published otafetch waits for its PUBACK. */
	get inFlight(): boolean {
		return this.#waiting !== undefined;
	}

	/** Number of consecutive failed fetches (0 after a PUBACK). */
	get retries(): number {
		return this.#retries;
	}

	/** Fetches after `seconds`. Of several requests the earliest wins; a later request never postpones it. */
	fetchWithDelay(seconds: number): void {
		const due = this.#timers.now() + seconds * 1000;
		if (this.#pending !== undefined) {
			if (this.#pendingAt <= due) return;
			this.#timers.clear(this.#pending);
		}
		this.#pendingAt = due;
		this.#pending = this.#timers.set(() => {
			this.#pending = undefined;
			this.fetch();
		}, seconds * 1000);
	}

	fetch(): void {
		if (this.#waiting !== undefined) {
			this.#log.info("OTA fetch already in progress. Skipping.");
			return;
		}
		const attempt = ++this.#attempt;
		this.#waiting = this.#timers.set(
			() => this.#settle(attempt, new Error(`no PUBACK within ${FETCH_PUBACK_TIMEOUT_SECONDS} s`)),
			FETCH_PUBACK_TIMEOUT_SECONDS * 1000,
		);
		this.#log.info("Fetching OTA job (otafetch)");
		this.#publisher.publish(SUFFIX_OTA_FETCH, RULE_OTA_FETCH, this.#payload, error => this.#settle(attempt, error));
	}

	stop(): void {
		this.#timers.clear(this.#pending);
		this.#timers.clear(this.#waiting);
		this.#pending = this.#waiting = undefined;
		this.#attempt++;
	}

	#settle(attempt: number, error: Error | undefined): void {
		if (attempt !== this.#attempt || this.#waiting === undefined) return;
		this.#timers.clear(this.#waiting);
		this.#waiting = undefined;
		if (!error) {
			this.#retries = 0;
			return;
		}
		this.#retries++;
		const delay = FETCH_RETRY_BASE_SECONDS * 2 ** (Math.min(this.#retries, FETCH_MAX_BACKOFF_STEPS) - 1);
		this.#log.warn(`OTA fetch failed (${error.message}); retry ${this.#retries} in ${delay} s`);
		this.fetchWithDelay(delay);
	}
}
