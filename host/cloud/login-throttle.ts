/*
 * Login throttling as an identity service does it (docs/local-cloud.md, "Login throttling"): failed
 * logins are counted per user name and per client address; after a few free failures each further
 * one makes that key wait twice as long as the one before (1 s, 2 s, 4 s … up to 5 min), and a
 * login while a key waits is answered 429 with Retry-After, before any password work. A success
 * clears the user's and the address's count. Password hashing (scrypt) runs on libuv's thread
 * pool, never on the event loop, with a bounded number in flight and waiting; past that, 429 too.
 */
import {scrypt} from "node:crypto";
import {ApiError, ErrorCode} from "./http-json";

export interface ThrottleOptions {
	/** Failures per key before the backoff starts. Default 5. */
	freeFailures?: number;
	/** First wait after the free failures. Default 1000 ms. */
	baseDelayMs?: number;
	/** Longest wait. Default 300 000 ms. */
	maxDelayMs?: number;
	/** Password hashes running at once, and waiting. Default 2 and 16. */
	maxHashing?: number;
	maxWaiting?: number;
}

interface Entry {
	failures: number;
	/** Epoch ms before which a login with this key is refused. */
	until: number;
}

/** Keys kept at most; the oldest are forgotten first (a flood of addresses cannot grow the map). */
const MAX_KEYS = 10_000;

export function tooManyRequests(description: string, waitMs: number): ApiError {
	const seconds = Math.max(1, Math.ceil(waitMs / 1000));
	return new ApiError(429, `${description}; try again in ${seconds} s`, ErrorCode.tooManyRequests, {
		"Retry-After": String(seconds),
	});
}

export class LoginThrottle {
	readonly #entries = new Map<string, Entry>();
	readonly #now: () => number;
	readonly #free: number;
	readonly #base: number;
	readonly #max: number;
	readonly #maxHashing: number;
	readonly #maxWaiting: number;
	#hashing = 0;
	readonly #waiting: Array<() => void> = [];

	constructor(now: () => number, options: ThrottleOptions = {}) {
		this.#now = now;
		this.#free = options.freeFailures ?? 5;
		this.#base = options.baseDelayMs ?? 1000;
		this.#max = options.maxDelayMs ?? 300_000;
		this.#maxHashing = options.maxHashing ?? 2;
		this.#maxWaiting = options.maxWaiting ?? 16;
	}

	/** Throws 429 when any key must still wait. */
	check(keys: readonly string[]): void {
		const now = this.#now();
		const wait = Math.max(0, ...keys.map(key => (this.#entries.get(key)?.until ?? 0) - now));
		if (wait > 0) throw tooManyRequests("Too many failed logins for this user or from this address", wait);
	}

	failed(keys: readonly string[]): void {
		const now = this.#now();
		for (const key of keys) {
			const entry = this.#entries.get(key) ?? {failures: 0, until: 0};
			entry.failures++;
			if (entry.failures >= this.#free)
				entry.until = now + Math.min(this.#max, this.#base * 2 ** Math.min(30, entry.failures - this.#free));
			this.#entries.delete(key);
			this.#entries.set(key, entry);
			if (this.#entries.size > MAX_KEYS) this.#entries.delete(this.#entries.keys().next().value!);
		}
	}

	succeeded(keys: readonly string[]): void {
		for (const key of keys) this.#entries.delete(key);
	}

	/**
	 * Checks a password: scrypt on the thread pool, at most `maxHashing` at once; 429 when `maxWaiting` already wait.
	 * The keys are checked again once a login's turn comes, so failures counted meanwhile apply.
	 */
	async verify(
		keys: readonly string[],
		password: string,
		salt: Buffer,
		matches: (hash: Buffer) => boolean,
	): Promise<boolean> {
		this.check(keys);
		if (this.#hashing >= this.#maxHashing) {
			if (this.#waiting.length >= this.#maxWaiting)
				throw tooManyRequests("The cloud is busy checking other logins", 1000);
			await new Promise<void>(resolve => this.#waiting.push(resolve));
		}
		this.#hashing++;
		try {
			this.check(keys);
			const hash = await new Promise<Buffer>((resolve, reject) =>
				scrypt(password, salt, 32, (error, key) => (error ? reject(error) : resolve(key))),
			);
			// Counted before the next login's turn, so a flood gets no more than the free failures.
			const ok = matches(hash);
			if (ok) this.succeeded(keys);
			else this.failed(keys);
			return ok;
		} finally {
			this.#hashing--;
			this.#waiting.shift()?.();
		}
	}
}
