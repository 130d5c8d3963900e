/*
 * The seed FAQ's user-approval OTA service built with the node model (independently of the
 * firmware's own OTA service module), and test nodes for the agent tests.
 */
import {Device, Node} from "../../rainmaker/model";
import type {NodeInfo} from "../../rainmaker/model";
import {
	OTA_INFO_NAME,
	OTA_OPERATION_NAME,
	OTA_SERVICE_NAME,
	PARAM_OTA_INFO,
	PARAM_OTA_OPERATION,
	SERVICE_OTA,
} from "../../rainmaker/standard";

export function seedNodeInfo(): NodeInfo {
	return {
		name: "RMX test node",
		fw_version: "1.0.0",
		type: "Switch",
		project_name: "rainmaker_ota_xs",
		platform: "esp32",
	};
}

/** OTA service of the FAQ: Operation (write-only command, check|start, initially "") and Info (read-only object, initially {}). */
export function seedOtaService(): Device {
	const service = new Device(OTA_SERVICE_NAME, SERVICE_OTA, {service: true});
	service.addParam({
		name: OTA_OPERATION_NAME,
		type: PARAM_OTA_OPERATION,
		dataType: "string",
		properties: ["write"],
		validStrs: ["check", "start"],
		value: "",
	});
	service.addParam({name: OTA_INFO_NAME, type: PARAM_OTA_INFO, dataType: "object", properties: ["read"], value: {}});
	return service;
}

/** A node with a light that has a param of every data type, plus the seed's OTA service. */
export function testNode(id: string): Node {
	const node = new Node(id, seedNodeInfo());
	const light = node.addDevice(new Device("Light", "esp.device.lightbulb", {primary: "Power"}));
	light.addParam({
		name: "Power",
		type: "esp.param.power",
		dataType: "bool",
		properties: ["read", "write"],
		value: false,
		uiType: "esp.ui.toggle",
	});
	light.addParam({
		name: "Brightness",
		type: "esp.param.brightness",
		dataType: "int",
		properties: ["read", "write"],
		value: 50,
		bounds: {min: 0, max: 100, step: 1},
		uiType: "esp.ui.slider",
	});
	light.addParam({
		name: "Speed",
		dataType: "float",
		properties: ["read", "write"],
		value: 1.5,
		bounds: {min: 0, max: 10},
	});
	light.addParam({
		name: "Name",
		type: "esp.param.name",
		dataType: "string",
		properties: ["read", "write"],
		value: "Lamp",
	});
	light.addParam({
		name: "Mode",
		dataType: "string",
		properties: ["read", "write"],
		value: "warm",
		validStrs: ["warm", "cold"],
	});
	light.addParam({name: "Config", dataType: "object", properties: ["read", "write"], value: {fade: 1}});
	light.addParam({name: "List", dataType: "array", properties: ["read", "write"], value: [1, 2]});
	light.addParam({name: "Firmware", dataType: "string", properties: ["read"], value: "1.0.0"});
	node.addDevice(seedOtaService());
	return node;
}
