/*
 * The job's time metadata (docs/protocol.md §4.2, §5.7): `validity` {start, end} in epoch seconds
 * and a daily `download_window` {start, end} in minutes after midnight of the node's local time,
 * as esp-rainmaker reads it (localtime_r in the timezone set on the node): the `timezone` option, a
 * POSIX TZ string (posix-tz.ts), default UTC. The reference's edge rules (esp_rmaker_ota.c
 * esp_rmaker_ota_handle_time): minutes, both ends of the window inclusive (start <= now <= end, so
 * the end minute is still inside), a window with start > end runs across midnight, -1 or a missing
 * value is no bound; validity is delayed while now < start and failed once now > end. Outside the
 * window the job is fetched again (start - now) minutes + 5 s later. The verdicts carry the
 * reference's texts.
 */
import {localMinuteOfDay, type PosixTimezone, parsePosixTimezone} from "./posix-tz";
import {StatusText} from "./status";

/** Before this the clock is taken as never set (SNTP has not run): 2023-01-01T00:00:00Z. */
export const MIN_SYNCED_EPOCH = 1672531200;
/** The reference fetches again this long after "No time information available yet.". */
export const NO_TIME_RETRY_SECONDS = 30;
const MINUTES_IN_DAY = 1440;
/** OTA_DELAY_TIME_BUFFER of the reference. */
const DELAY_BUFFER_SECONDS = 5;
const UTC = parsePosixTimezone("UTC0");

export interface TimeVerdict {
	readonly status: "delayed" | "failed";
	readonly text: string;
	/** Fetch the job again after this many seconds (delayed verdicts only). */
	readonly fetchAfterSeconds?: number;
}

function bounds(value: unknown): {start?: number; end?: number} | undefined {
	if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
	const fields = value as {[key: string]: unknown};
	const result: {start?: number; end?: number} = {};
	// json_obj_get_int: an integer; the reference's "not given" is -1
	if (typeof fields.start === "number" && Number.isFinite(fields.start) && Math.trunc(fields.start) !== -1)
		result.start = Math.trunc(fields.start);
	if (typeof fields.end === "number" && Number.isFinite(fields.end) && Math.trunc(fields.end) !== -1)
		result.end = Math.trunc(fields.end);
	return result;
}

/** undefined when the job may run now (or has no time metadata), else what to report. `zone`: the node's timezone (default UTC). */
export function checkTimeMetadata(
	metadata: string | undefined,
	now: number,
	zone: PosixTimezone = UTC,
): TimeVerdict | undefined {
	if (metadata === undefined) return undefined;
	let parsed: unknown;
	try {
		parsed = JSON.parse(metadata);
	} catch {
		return undefined;
	}
	if (typeof parsed !== "object" || parsed === null) return undefined;
	const fields = parsed as {[key: string]: unknown};
	const validity = bounds(fields.validity);
	const window = bounds(fields.download_window);
	if (!validity && !window) return undefined;
	now = Math.floor(now);
	if (now < MIN_SYNCED_EPOCH)
		return {status: "delayed", text: StatusText.noTime, fetchAfterSeconds: NO_TIME_RETRY_SECONDS};
	if (validity) {
		if (validity.start !== undefined && now < validity.start)
			return {
				status: "delayed",
				text: StatusText.notWithinValidity,
				fetchAfterSeconds: validity.start - now + DELAY_BUFFER_SECONDS,
			};
		if (validity.end !== undefined && now > validity.end) return {status: "failed", text: StatusText.windowLapsed};
	}
	if (window) {
		if (window.start === undefined) return undefined;
		if (window.end === undefined) return {status: "failed", text: StatusText.invalidWindow};
		let start = window.start,
			end = window.end;
		let minute = localMinuteOfDay(zone, now);
		if (start > end) {
			// across midnight: shifted so that the window starts at 0
			const shift = MINUTES_IN_DAY - start;
			start = 0;
			end += shift;
			minute = (minute + shift) % MINUTES_IN_DAY;
		}
		if (minute < start || minute > end) {
			let delay = start - minute;
			if (delay < 0) delay += MINUTES_IN_DAY;
			return {
				status: "delayed",
				text: StatusText.notWithinWindow,
				fetchAfterSeconds: delay * 60 + DELAY_BUFFER_SECONDS,
			};
		}
	}
	return undefined;
}
