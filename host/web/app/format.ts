/* Texts for a person: sizes, times, statuses, failures. */
import {RainMakerApiError} from "./api";

export function formatSize(bytes: number): string {
	if (bytes < 1024) return `${bytes} bytes`;
	const kib = bytes / 1024;
	if (kib < 1024) return `${kib.toFixed(kib < 10 ? 1 : 0)} KiB (${bytes.toLocaleString("en")} bytes)`;
	return `${(kib / 1024).toFixed(2)} MiB (${bytes.toLocaleString("en")} bytes)`;
}

/** Epoch seconds or milliseconds → "2026-11-29 13:05:12" in the browser's time zone. */
export function formatTime(epoch: number | undefined): string {
	if (epoch === undefined || !Number.isFinite(epoch) || epoch <= 0) return "—";
	const date = new Date(epoch < 1e12 ? epoch * 1000 : epoch);
	const two = (n: number) => String(n).padStart(2, "0");
	return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

const statusWords: Record<string, string> = {
	triggered: "Waiting for the node",
	"in-progress": "In progress",
	delayed: "Delayed",
	success: "Succeeded",
	failed: "Failed",
	rejected: "Rejected",
};

export function statusWord(status: string): string {
	return statusWords[status] ?? status;
}

/** The text of a failure for a sentence on the page ("Approve failed: <this>"): a failed call's is the cloud's description. */
export function describe(error: unknown): string {
	if (error instanceof RainMakerApiError) return error.description;
	return error instanceof Error ? error.message : String(error);
}
