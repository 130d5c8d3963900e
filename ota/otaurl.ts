/*
 * Parsing of the cloud's `otaurl` message (docs/protocol.md §4.2, §5.6, §5.10). The node reads only the
 * keys below and ignores all others. Optional keys of the wrong type are ignored as the reference's
 * json_obj_get_* calls ignore them; the required keys give the reference's abort texts. The job is
 * accepted or refused here, once: a url the chosen transport would fetch must pass the one URL rule
 * (ota/firmware-url.ts), a node that downloads over an MQTT stream needs stream_id and file_size. A
 * refused job is reported failed at once and never offered for approval.
 */
import {urlRefusal} from "./firmware-url";
import type {OtaTransport} from "./options";
import {StatusText} from "./status";
import {streamIdProblem} from "./stream-protocol";

/** One OTA job as offered by the cloud. */
export interface OtaJob {
	readonly jobId: string;
	readonly url: string;
	/** 0 when the cloud did not send it. */
	readonly fileSize: number;
	readonly fwVersion?: string;
	/** Resume key (and, in this node, also checked against the download: see README). */
	readonly fileMd5?: string;
	/** The job's metadata object, kept as JSON text like the reference. */
	readonly metadata?: string;
	/** The MQTT file stream that carries the image (esp-rainmaker's MQTT OTA), when the cloud sent one. */
	readonly streamId?: string;
}

/** What the node accepts: how it downloads, and whether http:// is allowed (OtaOptions). */
export interface OtaUrlPolicy {
	readonly transport: OtaTransport;
	readonly allowHttp: boolean;
}

export type OtaUrlResult =
	| {readonly job: OtaJob; readonly warnings: readonly string[]}
	| {readonly cancelled: string}
	| {readonly error: string; readonly jobId?: string};

/** Larger messages are refused before parsing; the reference's buffers are far smaller. */
export const MAX_OTAURL_PAYLOAD = 4096;
/** The reference reads the job id into a 64-byte buffer. */
export const MAX_JOB_ID_LENGTH = 63;

export function parseOtaUrl(
	payload: string,
	policy: OtaUrlPolicy = {transport: "https", allowHttp: false},
): OtaUrlResult {
	if (payload.length > MAX_OTAURL_PAYLOAD) return {error: StatusText.jsonPayloadError};
	let message: unknown;
	try {
		message = JSON.parse(payload);
	} catch {
		return {error: StatusText.jsonPayloadError};
	}
	if (typeof message !== "object" || message === null || Array.isArray(message))
		return {error: StatusText.jsonPayloadError};
	const fields = message as {[key: string]: unknown};
	const jobId = fields.ota_job_id;
	if (typeof jobId !== "string" || jobId.length === 0 || jobId.length > MAX_JOB_ID_LENGTH)
		return {error: StatusText.jobIdNotFound};
	const url = fields.url;
	// The local cloud's withdrawal of a cancelled job (docs/local-cloud.md, "OTA jobs"): no URL, `cancelled: true`.
	if (url === undefined && fields.cancelled === true) return {cancelled: jobId};
	if (typeof url !== "string" || url.length === 0) return {error: StatusText.urlNotFound, jobId};
	const streamId = typeof fields.stream_id === "string" && fields.stream_id.length > 0 ? fields.stream_id : undefined;
	if (policy.transport === "mqtt-stream") {
		if (streamId === undefined) return {error: StatusText.streamIdNotFound, jobId};
		const problem = streamIdProblem(streamId);
		if (problem) return {error: `Aborted. ${problem}`, jobId};
		const size = fields.file_size;
		if (typeof size !== "number" || !Number.isSafeInteger(size) || size <= 0)
			return {error: StatusText.streamWithoutSize, jobId};
	} else {
		const refusal = urlRefusal(url, policy.allowHttp);
		if (refusal) return {error: `Aborted. URL refused: ${refusal}`, jobId};
	}

	const warnings: string[] = [];
	let fileSize = 0;
	if (fields.file_size !== undefined) {
		const size = fields.file_size;
		if (typeof size === "number" && Number.isSafeInteger(size) && size >= 0) fileSize = size;
		else warnings.push(`ignoring file_size ${JSON.stringify(size)}: not a byte count`);
	}
	const job: {-readonly [K in keyof OtaJob]: OtaJob[K]} = {jobId, url, fileSize};
	if (streamId !== undefined) job.streamId = streamId;
	if (typeof fields.fw_version === "string") job.fwVersion = fields.fw_version;
	else if (fields.fw_version !== undefined) warnings.push("ignoring fw_version: not a string");
	if (typeof fields.file_md5 === "string" && /^[0-9a-fA-F]{32}$/.test(fields.file_md5))
		job.fileMd5 = fields.file_md5.toLowerCase();
	else if (fields.file_md5 !== undefined) warnings.push("ignoring file_md5: not 32 hex digits");
	if (typeof fields.metadata === "object" && fields.metadata !== null && !Array.isArray(fields.metadata))
		job.metadata = JSON.stringify(fields.metadata);
	else if (fields.metadata !== undefined) warnings.push("ignoring metadata: not an object");
	return {job, warnings};
}
