/*
 * The OTA error model: every way an update can end early is a typed outcome, `rejected` (the image
 * is not acceptable; the job ends, no retry) or `failed` (this attempt or job failed; the node may
 * try again), with the text the status report carries. Download, image checks, partition and store
 * produce these; the update engine and the approval (approval.ts) report them as they are, so no
 * code classifies an error by its message. errorText() is the one place that turns a thrown value
 * into text (rainmaker/error-text.ts, shared with the node agent and the MQTT session).
 */
import {errorText} from "../rainmaker/error-text";

export type FailureKind = "failed" | "rejected";

export interface Failure {
	readonly kind: FailureKind;
	/** The otastatus additional_info (docs/protocol.md §5.13 texts where the reference has one). */
	readonly text: string;
}

export function failed(text: string): Failure {
	return {kind: "failed", text};
}

export function rejected(text: string): Failure {
	return {kind: "rejected", text};
}

/** A Failure carried by a throw (the journal's write failures, an adapter's refusal). */
export class OtaFailure extends Error {
	readonly failure: Failure;
	constructor(failure: Failure) {
		super(failure.text);
		this.name = "OtaFailure";
		this.failure = failure;
	}
}

/**
 * Thrown by UpdatePartition.end() when the image in the slot does not verify (ESP-IDF's
 * ESP_ERR_OTA_VALIDATE_FAILED); any other error of end() is "OTA finish failed" (docs/protocol.md §5.9).
 */
export class ImageInvalidError extends Error {
	constructor(reason: string) {
		super("Image validation failed: " + reason);
		this.name = "ImageInvalidError";
	}
}

export {errorText};

/** The Failure a thrown value stands for: its own when it carries one, else `failed` "<prefix><message>". */
export function failureOf(error: unknown, prefix = ""): Failure {
	if (error instanceof OtaFailure) return error.failure;
	return failed(prefix + errorText(error));
}
