/*
 * otastatus reports: the reference's status strings and additional_info texts, and the payload
 * builder that keeps a report within the reference's 200-byte buffer as valid JSON.
 */
import {utf8Length} from "../rainmaker/utf8";

export type OtaStatus = "in-progress" | "success" | "failed" | "delayed" | "rejected";

/** The reference builds otastatus in a 200-byte buffer (esp_rmaker_ota_report_status_using_topics). */
export const MAX_STATUS_PAYLOAD = 200;

/** The reference's additional_info texts (docs/protocol.md §5.13), plus this project's own where marked. */
export const StatusText = Object.freeze({
	waitingForApproval: "Waiting for Approval",
	cancelled: "Job cancelled by the cloud: offer withdrawn",
	startTooSoon: (ms: number) =>
		`Start refused: the offer changed ${ms} ms before it, too soon for a user to have seen it; read Info again and approve`,
	jsonPayloadError: "Aborted. JSON Payload error",
	jobIdNotFound: "Aborted. OTA Updated ID not found in JSON",
	urlNotFound: "Aborted. URL not found in JSON",
	/** The reference's MQTT build (esp_rmaker_ota_using_topics.c) without stream_id. */
	streamIdNotFound: "Aborted. Stream ID not found in JSON",
	/** The reference's MQTT OTA without stream_id or file_size (esp_rmaker_mqtt_ota.c). */
	streamWithoutSize: "Missing stream_id or filesize for MQTT OTA",
	/** The reference's MQTT OTA when the link is not back within 60 s. */
	mqttNotConnected: "MQTT not connected",
	noTime: "No time information available yet.",
	notWithinValidity: "Not within valid window.",
	windowLapsed: "OTA download window lapsed.",
	invalidWindow: "Invalid download window specified.",
	notWithinWindow: "Not within download window.",
	starting: (attempt: number, max: number, protocol = "HTTPS") =>
		`Starting OTA Upgrade (${protocol} attempt ${attempt}/${max})`,
	downloading: "Downloading Firmware Image",
	downloaded: (percent: number) => `Downloaded ${percent}% Firmware Image`,
	downloadComplete: "Firmware Image download complete",
	attemptFailed: (attempt: number, max: number, reason: string) => `OTA Attempt ${attempt}/${max} failed: ${reason}`,
	rebooting: (attempts: number, protocol = "HTTPS") =>
		`Rebooting into new firmware (after ${attempts} ${protocol} attempt${attempts === 1 ? "" : "s"})`,
	/** This project's: an installed image waits for the application's reboot (autoReboot off). */
	awaitingReboot: (attempts: number, protocol = "HTTPS") =>
		`Firmware installed (after ${attempts} ${protocol} attempt${attempts === 1 ? "" : "s"}); waiting for the application to reboot into it`,
	/** This project's: the STARTING event of an approved job (docs/product.md). */
	startingJob: (version: string | undefined) => `Starting the update${version ? ` to ${version}` : ""}`,
	/** This project's: an application callback holds the approved update before its download. */
	held: (reason: string) => `Held by the application before the download: ${reason}`,
	/** This project's: the hold outlived holdTimeoutSeconds. */
	holdExpired: (seconds: number, reason: string) =>
		`Not started: the application held the update for ${seconds} s (${reason}); approve it again`,
	verified: "OTA Upgrade finished and verified successfully",
	rolledBack: "Firmware rolled back",
	projectMismatch: "Project Name mismatch",
	sameVersion: "Same version received",
	lowerSecureVersion: "Lower secure version received",
	chipMismatch: "Chip revision mismatch",
	incompleteData: "Complete data was not received",
	/** This project's: a power loss before the new image ever ran (docs/ota-lifecycle.md). */
	interrupted: (version: string) =>
		`Update to ${version || "the new firmware"} interrupted: the new firmware never started (power loss during its first boot?); the previous firmware runs`,
} as const);

function build(jobId: string, status: OtaStatus, info: string, ts: number): string {
	return JSON.stringify({ota_job_id: jobId, status, additional_info: info, ts});
}

/**
 * The otastatus JSON. additional_info is shortened (never split inside a surrogate pair) until
 * the payload fits MAX_STATUS_PAYLOAD bytes, so the cloud always gets valid JSON.
 */
export function statusPayload(jobId: string, status: OtaStatus, info: string, ts: number): string {
	let payload = build(jobId, status, info, ts);
	if (utf8Length(payload) <= MAX_STATUS_PAYLOAD) return payload;
	let low = 0,
		high = info.length; // the longest prefix that fits lies in [low, high)
	while (low < high) {
		const middle = (low + high + 1) >> 1;
		if (utf8Length(build(jobId, status, cut(info, middle), ts)) <= MAX_STATUS_PAYLOAD) low = middle;
		else high = middle - 1;
	}
	payload = build(jobId, status, cut(info, low), ts);
	return payload;
}

function cut(text: string, length: number): string {
	const code = text.charCodeAt(length - 1);
	if (code >= 0xd800 && code <= 0xdbff) length--;
	return text.slice(0, length);
}
