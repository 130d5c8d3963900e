/* The unauthenticated `apiversions` and `mqtt_host` (docs/local-cloud.md, "REST API"). */
import {sendJson} from "../http-json";
import type {RequestContext} from "./context";

export async function getApiVersions({response}: RequestContext): Promise<void> {
	sendJson(response, 200, {supported_versions: ["v1"]});
}

/** `GET mqtt_host`: the host name nodes connect to, and (local additions) the full broker URLs. */
export async function getMqttHost({cloud, response}: RequestContext): Promise<void> {
	const url = new URL(cloud.mqttsUrl ?? cloud.mqttUrl ?? "");
	sendJson(response, 200, {
		mqtt_host: url.hostname,
		mqtt_port: Number(url.port),
		...(cloud.mqttUrl ? {mqtt_url: cloud.mqttUrl} : {}),
		...(cloud.mqttsUrl ? {mqtts_url: cloud.mqttsUrl} : {}),
	});
}
