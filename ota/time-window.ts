/*
 * The job's time metadata (docs/protocol.md §4.2, §5.7): `validity` {start, end} in epoch seconds
 * and a daily `download_window` {start, end} in minutes after midnight. The node keeps UTC (it has
 * no time-zone setting), so the window is read in UTC. The verdicts carry the reference's texts.
 */
import {StatusText} from "./status";

/** Before this the clock is taken as never set (SNTP has not run): 2023-01-01T00:00:00Z. */
export const MIN_SYNCED_EPOCH = 1672531200;
/** The reference fetches again this long after "No time information available yet.". */
export const NO_TIME_RETRY_SECONDS = 30;
const DAY_SECONDS = 86400;

export interface TimeVerdict {
	readonly status: "delayed" | "failed";
	readonly text: string;
	/** Fetch the job again after this many seconds (delayed verdicts only). */
	readonly fetchAfterSeconds?: number;
}

function bounds(value: unknown): {start?: number; end?: number} | undefined {
	if (typeof value !== "object" || value === null || Array.isArray(value))
		return undefined;
	const fields = value as {[key: string]: unknown};
	const result: {start?: number; end?: number} = {};
	if (typeof fields.start === "number" && Number.isFinite(fields.start))
		result.start = fields.start;
	if (typeof fields.end === "number" && Number.isFinite(fields.end))
		result.end = fields.end;
	return result;
}

/** undefined when the job may run now (or has no time metadata), else what to report. */
export function checkTimeMetadata(metadata: string | undefined, now: number): TimeVerdict | undefined {
	if (metadata === undefined)
		return undefined;
	let parsed: unknown;
	try {
		parsed = JSON.parse(metadata);
	}
	catch {
		return undefined;
	}
	if (typeof parsed !== "object" || parsed === null)
		return undefined;
	const fields = parsed as {[key: string]: unknown};
	const validity = bounds(fields.validity);
	const window = bounds(fields.download_window);
	if (!validity && !window)
		return undefined;
	now = Math.floor(now);
	if (now < MIN_SYNCED_EPOCH)
		return {status: "delayed", text: StatusText.noTime, fetchAfterSeconds: NO_TIME_RETRY_SECONDS};
	if (validity) {
		if (validity.start !== undefined && now < validity.start)
			return {status: "delayed", text: StatusText.notWithinValidity, fetchAfterSeconds: validity.start - now + 5};
		if (validity.end !== undefined && now > validity.end)
			return {status: "failed", text: StatusText.windowLapsed};
	}
	if (window) {
		if (window.start === undefined)
			return undefined;
		if (window.end === undefined)
			return {status: "failed", text: StatusText.invalidWindow};
		const start = window.start * 60, end = window.end * 60;
		const second = now % DAY_SECONDS;
		const inside = start <= end ? second >= start && second < end : second >= start || second < end;
		if (!inside)
			return {status: "delayed", text: StatusText.notWithinWindow, fetchAfterSeconds: ((start - second + DAY_SECONDS) % DAY_SECONDS) + 5};
	}
	return undefined;
}
