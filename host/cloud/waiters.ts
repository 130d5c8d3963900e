/* Waiting for the cloud's events and a node's status reports (tests and the simulator). */
import type {EventEmitter} from "node:events";
import type {CloudEventMap} from "./cloud-api";
import type {OtaStatus} from "../../ota/status";
import type {StatusReport} from "./jobs";

export const defaultWaitMs = 10_000;

/** Resolves with the next event of `name` whose argument matches; rejects after `timeoutMs`. */
export function waitForEvent<K extends keyof CloudEventMap>(
	events: EventEmitter<CloudEventMap>,
	name: K,
	predicate?: (...args: CloudEventMap[K]) => boolean,
	timeoutMs = defaultWaitMs,
): Promise<CloudEventMap[K][0]> {
	return new Promise((resolve, reject) => {
		const emitter = events as EventEmitter;
		const listener = (...args: unknown[]) => {
			if (predicate && !(predicate as (...values: unknown[]) => boolean)(...args)) return;
			clearTimeout(timer);
			emitter.off(name, listener);
			resolve(args[0] as CloudEventMap[K][0]);
		};
		const timer = setTimeout(() => {
			emitter.off(name, listener);
			reject(new Error(`cloud: no matching "${name}" event within ${timeoutMs} ms`));
		}, timeoutMs);
		emitter.on(name, listener);
	});
}

/** The first report of the node for the job that matches, also one in `earlier`; rejects after `timeoutMs`. */
export function waitForStatus(
	events: EventEmitter<CloudEventMap>,
	statuses: () => StatusReport[],
	nodeId: string,
	jobId: string,
	match?: OtaStatus | ((report: StatusReport) => boolean),
	timeoutMs = defaultWaitMs,
): Promise<StatusReport> {
	const matches = (report: StatusReport) =>
		report.nodeId === nodeId &&
		report.jobId === jobId &&
		(match === undefined || (typeof match === "string" ? report.status === match : match(report)));
	const earlier = statuses().find(matches);
	if (earlier) return Promise.resolve(earlier);
	return waitForEvent(events, "status", matches, timeoutMs).catch(() => {
		throw new Error(
			`cloud: no ${typeof match === "string" ? `"${match}" ` : ""}status from ${nodeId} for ${jobId} within ${timeoutMs} ms` +
				` (got: ${
					statuses()
						.map(report => report.status)
						.join(", ") || "none"
				})`,
		);
	});
}
