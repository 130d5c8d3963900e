/*
 * A scripted user-approval node (the pattern of docs/protocol.md §2.1) over a plain MQTT client, for the approval
 * client's tests: Operation "check" → otafetch; an otaurl without approval → Info = the offer and
 * `delayed` "Waiting for Approval"; "start" → approval flag + otafetch; the approved otaurl → Info
 * cleared, then the scripted status reports, one per `advance()`, so a test decides exactly when
 * the next status appears (for example once per poll of the client).
 */
import type {Cloud} from "../../host/cloud/cloud";
import {announce} from "./cloud-fixtures";
import {connectMqttNode, type MqttNode} from "./mqtt-node";

export type ScriptedReport = [status: string, additionalInfo: string];

export interface ApprovalNode {
	node: MqttNode;
	/** The job offered in Info (after an otaurl without approval). */
	offeredJobId?: string;
	/** The job being applied (after the approved otaurl). */
	runningJobId?: string;
	/** Publishes the next scripted report once the approved job arrived; resolves when the cloud recorded it (no-op when the script is done). */
	advance(): Promise<void>;
	/** Reports left. */
	readonly remaining: number;
	close(): Promise<void>;
}

export async function startApprovalNode(cloud: Cloud, nodeId: string, script: ScriptedReport[]): Promise<ApprovalNode> {
	const node = await connectMqttNode(cloud.mqttUrl, nodeId);
	await announce(node);
	const reports = [...script];
	let approved = false;
	let running: Promise<void> = Promise.resolve();
	let jobArrived: () => void = () => {};
	const jobRunning = new Promise<void>(resolve => (jobArrived = resolve));
	const state: ApprovalNode = {
		node,
		get remaining() {
			return reports.length;
		},
		async advance() {
			await jobRunning;
			const next = reports.shift();
			if (!next || !state.runningJobId) return;
			const [status, additionalInfo] = next;
			const jobId = state.runningJobId;
			const recorded = cloud.waitFor(
				"status",
				report =>
					report.nodeId === nodeId && report.jobId === jobId && report.additionalInfo === additionalInfo,
			);
			await node.publish("otastatus", {
				ota_job_id: jobId,
				status,
				additional_info: additionalInfo,
				ts: 1700000000,
			});
			await recorded;
		},
		close: () => node.close(),
	};
	const handle = async (topic: string, payload: string) => {
		const message = JSON.parse(payload) as Record<string, unknown>;
		if (topic.endsWith("/params/remote")) {
			const operation = (message.OTA as {Operation?: string} | undefined)?.Operation;
			if (operation === "start") approved = true;
			if (operation === "check" || operation === "start")
				await node.publish("otafetch", {node_id: nodeId, fw_version: "1.0.0"});
			return;
		}
		if (!topic.endsWith("/otaurl")) return;
		const jobId = String(message.ota_job_id);
		if (!approved) {
			state.offeredJobId = jobId;
			await node.publish("params/local", {OTA: {Info: {job_id: jobId, fw_version: message.fw_version}}});
			await node.publish("otastatus", {
				ota_job_id: jobId,
				status: "delayed",
				additional_info: "Waiting for Approval",
				ts: 1700000000,
			});
			return;
		}
		approved = false;
		state.runningJobId = jobId;
		await node.publish("params/local", {OTA: {Info: {}}});
		jobArrived();
	};
	node.client.on("message", (topic, payload) => {
		// In order, one at a time, like the node's work queue.
		running = running.then(() => handle(topic, payload.toString())).catch(() => {});
	});
	return state;
}
