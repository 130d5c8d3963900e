/*
 * Following a job's status through `user/nodes/ota_status` until it is final, as the phone app does
 * after an approval. Only the latest status is visible, so the client polls and reports each change.
 * - `success` and `rejected` are final.
 * - `failed` is final only when nothing newer arrives within a grace period: the node retries an
 *   attempt at once and the cloud serves the job again (docs/protocol.md §5.8, §5.14), so one `failed` is often
 *   followed by a new `in-progress`.
 * - `delayed` after an approval means "waiting": the node fetches the job again. A `delayed`
 *   "Waiting for Approval" that comes after another status is the node offering the job again: it
 *   lost the approval (a restart, a power cut, the approval lapsed) and needs a new one.
 */
import {RainMakerApiError, type OtaStatusResponse, type RainMakerApi} from "./api";
import {progressOf} from "./ota-reading";

export interface Clock {
	/** Milliseconds. */
	now(): number;
	sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
	now: () => Date.now(),
	sleep: ms => new Promise(resolve => setTimeout(resolve, ms)),
};

export type FollowOutcome = "success" | "rejected" | "failed" | "timeout" | "stopped" | "needs-approval";

/** The node's text when it offers a job (ota/status.ts StatusText.waitingForApproval). */
export const WAITING_FOR_APPROVAL = "Waiting for Approval";

export interface FollowOptions {
	pollIntervalMs: number;
	/** Give up after this long without a final state. */
	timeoutMs: number;
	/** How long a `failed` must stay the latest status to count as final. */
	failedGraceMs: number;
	clock?: Clock;
	/** Stops following (Ctrl-C); the outcome is then "stopped". */
	signal?: AbortSignal;
	/** Each new status (a change of status, text or timestamp); `reoffered` when the node asks for approval again. */
	onStatus(status: OtaStatusResponse, reoffered: boolean): void;
	/** A failed poll (shown once per distinct error); polling continues. */
	onPollError?(error: RainMakerApiError): void;
}

/** One line for a status, with a progress bar when the text carries progress. */
export function formatStatus(status: OtaStatusResponse, approved: boolean, reoffered = false): string {
	let line = `${status.status}: ${status.additional_info || "(no details)"}`;
	const progress = progressOf(status.additional_info);
	if (progress !== undefined) {
		const filled = Math.round(Math.min(100, progress) / 5);
		line += `  [${"#".repeat(filled)}${".".repeat(20 - filled)}] ${progress}%`;
	}
	if (status.status === "delayed" && approved)
		line += reoffered
			? "  (the node offers the update again: it needs a new approval)"
			: "  (waiting: the node fetches the job again)";
	if (status.status === "failed") line += "  (the node may retry)";
	return line;
}

function sameStatus(a: OtaStatusResponse | undefined, b: OtaStatusResponse): boolean {
	return (
		a !== undefined &&
		a.status === b.status &&
		a.additional_info === b.additional_info &&
		a.timestamp === b.timestamp
	);
}

/** Polls until a final state, the timeout or the signal. Authentication errors end it with a throw. */
export async function followOtaJob(
	api: RainMakerApi,
	nodeId: string,
	jobId: string,
	options: FollowOptions,
): Promise<FollowOutcome> {
	const clock = options.clock ?? realClock;
	const start = clock.now();
	let last: OtaStatusResponse | undefined;
	let failedSince: number | undefined;
	let lastError = "";
	for (;;) {
		if (options.signal?.aborted) return "stopped";
		try {
			const status = await api.getOtaStatus(nodeId, jobId);
			lastError = "";
			if (!sameStatus(last, status)) {
				const reoffered =
					last !== undefined &&
					status.status === "delayed" &&
					status.additional_info === WAITING_FOR_APPROVAL;
				last = status;
				failedSince = status.status === "failed" ? clock.now() : undefined;
				options.onStatus(status, reoffered);
				if (reoffered) return "needs-approval";
			}
			if (status.status === "success" || status.status === "rejected") return status.status;
			if (failedSince !== undefined && clock.now() - failedSince >= options.failedGraceMs) return "failed";
		} catch (error) {
			if (!(error instanceof RainMakerApiError)) throw error;
			if (error.httpStatus === 401 || error.httpStatus === 403) throw error;
			if (error.message !== lastError) {
				lastError = error.message;
				options.onPollError?.(error);
			}
		}
		if (clock.now() - start >= options.timeoutMs) return last?.status === "failed" ? "failed" : "timeout";
		await clock.sleep(options.pollIntervalMs);
	}
}
