/*
 * Waiting for network I/O in tests (socket events on loopback cannot be driven by a virtual clock).
 */

/** Resolves once `condition()` is true, checking after every turn of the event loop; rejects after `timeoutMs`. */
export function waitUntil(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	return new Promise<void>((resolve, reject) => {
		const check = () => {
			if (condition()) resolve();
			else if (Date.now() > deadline) reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
			else setTimeout(check, 2);
		};
		check();
	});
}
