/*
 * Status histories as the cloud records them ("<status>: <additional_info>"), and the one a
 * successful approved install produces with the default options.
 */
import type {Cloud} from "../../host/cloud/cloud";

export function statusHistory(cloud: Cloud, nodeId: string, jobId: string): string[] {
	return cloud.statuses(nodeId, jobId).map(report => `${report.status}: ${report.additionalInfo}`);
}

/** Offer, approval, one attempt with 10 % progress steps, reboot, confirmation. */
export const SUCCESSFUL_INSTALL: readonly string[] = [
	"delayed: Waiting for Approval",
	"in-progress: Starting OTA Upgrade (HTTPS attempt 1/3)",
	"in-progress: Downloading Firmware Image",
	...[10, 20, 30, 40, 50, 60, 70, 80, 90].map(p => `in-progress: Downloaded ${p}% Firmware Image`),
	"in-progress: Firmware Image download complete",
	"in-progress: Rebooting into new firmware (after 1 HTTPS attempt)",
	"success: OTA Upgrade finished and verified successfully",
];
