/*
 * The `ota` console command. One handler for every console: the device wires it to Moddable's CLI
 * (serial Console and telnet), the host simulator to stdin. The console's text lives here; the
 * approval (approval.ts), the engine, the reporter and the rollback guard only expose their state.
 */
import type {Approval} from "./approval";
import type {AppImageInfo} from "./image";
import type {StatusReport} from "./reporter";
import type {UpdateProgress} from "./update-engine";

export const OTA_USAGE = "Usage: ota <check|start|status>";
export const OTA_HELP: readonly string[] = Object.freeze([
	"ota check   check for an OTA update (the offer shows in Info, waiting for approval)",
	"ota start   approve the offered update: fetch it again and install it",
	"ota status  what runs (version, slot), the offer, the approval, the update under way, the last status",
]);

/** What `ota` reads and drives: the firmware's parts (ota/firmware.ts), by their state only. */
export interface OtaConsoleSubject {
	readonly ota: Pick<Approval, "state" | "offer" | "held" | "lastOutcome" | "check" | "start">;
	readonly engine: {readonly progress: UpdateProgress | undefined};
	readonly reporter: {readonly last: StatusReport | undefined};
	readonly guard: {readonly rolledBackVersion: string | undefined};
	/** The running image's facts. */
	readonly running: AppImageInfo;
	/** The partition the running image was booted from ("ota_0"), when the platform tells. */
	readonly runningSlot: string | undefined;
}

export function otaCommand(
	subject: OtaConsoleSubject,
	args: readonly string[],
	print: (line: string) => void,
): boolean {
	const argument = args[0]?.toLowerCase();
	switch (argument) {
		case "check":
		case "start": {
			const result = argument === "check" ? subject.ota.check() : subject.ota.start();
			print(result.ok ? result.message : `Error: ${result.message}`);
			return result.ok;
		}
		case "status":
			for (const line of otaStatusLines(subject)) print(line);
			return true;
		case undefined:
			print("Error: Invalid arguments. Use 'ota check', 'ota start' or 'ota status'.");
			break;
		default:
			print(`Error: Unknown argument: ${args[0]}. Use 'check', 'start' or 'status'.`);
	}
	print(OTA_USAGE);
	return false;
}

/**
 * The lines of `ota status`: the lifecycle state (docs/ota-lifecycle.md), the running firmware
 * (always: a node that answers runs something), the offer, the approval, the update under way,
 * the last status reported, and a rolled-back version.
 */
export function otaStatusLines(subject: OtaConsoleSubject): string[] {
	const {ota, engine, reporter, guard, running, runningSlot} = subject;
	const state = ota.state;
	const offer = ota.offer;
	const slot = runningSlot !== undefined ? ` from ${runningSlot}` : "";
	const lines: string[] = [`state: ${state}`];
	lines.push(
		`running: ${running.projectName} ${running.version}${slot}${state === "pending-verify" ? ", new: confirmed on its first MQTT connection, else rolled back" : ""}`,
	);
	lines.push(
		offer
			? `offered: job ${offer.jobId}, version ${offer.fwVersion ?? "?"}${offer.fileSize ? `, ${offer.fileSize} bytes` : ""}`
			: "offered: nothing",
	);
	switch (state) {
		case "offered":
			lines.push("approval: waiting for the user ('ota start' or the app)");
			break;
		case "approved":
			lines.push(`approval: given for job ${offer?.jobId}, waiting for the cloud to serve it again`);
			break;
		case "held":
			lines.push(`approval: given for job ${ota.held?.job.jobId ?? "?"}`);
			break;
		case "installing":
		case "reboot-requested":
		case "rebooting":
			lines.push(`approval: given for job ${offer?.jobId ?? engine.progress?.jobId ?? "?"}`);
			break;
		default:
			lines.push("approval: none pending");
	}
	if (state === "installing") {
		const progress = engine.progress;
		if (progress) {
			const percent = progress.total > 0 ? ` (${Math.floor((progress.received * 100) / progress.total)}%)` : "";
			lines.push(
				`update: job ${progress.jobId}, attempt ${progress.attempt}, ${progress.received} of ${progress.total || "?"} bytes${percent}`,
			);
		} else lines.push("update: starting");
	} else if (state === "held")
		lines.push(
			`update: job ${ota.held?.job.jobId ?? "?"}, held by the application before the download (${ota.held?.reasons ?? "?"})`,
		);
	else if (state === "reboot-requested")
		lines.push("update: installed, waiting for the application to reboot into the new firmware");
	else if (state === "rebooting") lines.push("update: installed, rebooting into the new firmware");
	const last = reporter.last;
	lines.push(last ? `last status: ${last.status} "${last.info}" (job ${last.jobId})` : "last status: none");
	if (ota.lastOutcome) lines.push(`last update: ${ota.lastOutcome}`);
	if (guard.rolledBackVersion !== undefined)
		lines.push(`rolled back: version ${guard.rolledBackVersion} (not offered on the node's own checks)`);
	return lines;
}
