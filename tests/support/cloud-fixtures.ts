/* Image fixtures and small helpers shared by the cloud and client tests. */
import {createHash} from "node:crypto";
import type {Cloud} from "../../host/cloud/cloud";
import {fixtureBytes, fixtureImage} from "./image-fixtures";
import type {MqttNode} from "./mqtt-node";

/** The fixture images (tests/support/image-fixtures.ts), e.g. fixtureImage("synthetic/app-2.0.0.bin"). */
export {fixtureBytes, fixtureImage};

export function md5Hex(bytes: Uint8Array): string {
	return createHash("md5").update(bytes).digest("hex");
}

/** The config a FAQ user-approval node reports (docs/protocol.md §2.1). */
export function approvalNodeConfig(nodeId: string, fwVersion = "1.0.0"): Record<string, unknown> {
	return {
		node_id: nodeId,
		config_version: "2020-03-20",
		info: {
			name: "test",
			fw_version: fwVersion,
			type: "Switch",
			model: "rainmaker-ota-xs",
			project_name: "rainmaker-ota-xs",
			platform: "esp32",
		},
		devices: [],
		services: [
			{
				name: "OTA",
				type: "esp.service.ota",
				params: [
					{
						name: "Operation",
						type: "esp.param.ota_operation",
						data_type: "string",
						properties: ["write"],
						valid_strs: ["check", "start"],
					},
					{name: "Info", type: "esp.param.ota_info", data_type: "object", properties: ["read"]},
				],
			},
		],
	};
}

/** Reports config and initial params, as a node does after connecting (docs/protocol.md §3.4). */
export async function announce(node: MqttNode, rule = false): Promise<void> {
	await node.publish("config", approvalNodeConfig(node.nodeId), rule ? "esp_node_config" : undefined);
	await node.publish("params/local/init", {OTA: {Operation: "", Info: {}}}, rule ? "esp_init_params" : undefined);
}

let probes = 0;

/**
 * Makes sure every message the cloud sent to the node before this call has arrived: the cloud
 * publishes a probe on params/remote and the broker delivers in order. Lets a test assert that
 * something was NOT sent without waiting for a time.
 */
export async function drain(cloud: Cloud, node: MqttNode): Promise<void> {
	const probe = ++probes;
	await cloud.setParams(node.nodeId, {Probe: {n: probe}});
	await node.next("params/remote", message => message.payload === JSON.stringify({Probe: {n: probe}}));
}
