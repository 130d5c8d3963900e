/*
 * Firmware entry point on the Moddable SDK: reads the settings (mc/config) and the TLS
 * credentials (resources), builds the device adapters and starts the platform-neutral firmware
 * (ota/firmware.ts), then opens the console (telnet; the serial Console when configured).
 * On esp32, setup/network has already joined Wi-Fi (config ssid/password) and set the clock.
 */
import config from "mc/config";
import Resource from "Resource";
import {startFirmware} from "./ota/firmware";
import {DeviceTimers} from "./device/timers";
import {TraceLog} from "./device/log";
import {PreferenceStore} from "./device/key-value-store";
import {DeviceMqttSession, type MqttTlsConfig} from "./device/mqtt-session";
import {DeviceHttpClient} from "./device/http-client";
import {OtaUpdatePartition} from "./device/update-partition";
import {FfiBootControl} from "./device/boot-control";
import {createCryptDigest} from "./device/digest";
import {installConsole} from "./device/console";
import {openSerialConsole} from "serial-console";
import {readSettings} from "./device/settings";

function resource(name: string, what: string): ArrayBuffer {
	if (!Resource.exists(name))
		throw new Error(`${what} resource "${name}" is missing (see certs/README.md)`);
	const bytes = new Resource(name).slice(0);
	// certs/ ships placeholders: a DER certificate or key starts with a SEQUENCE (0x30)
	if (bytes.byteLength < 64 || new Uint8Array(bytes)[0] !== 0x30)
		throw new Error(`${what} resource "${name}" is a placeholder, not DER (see certs/README.md)`);
	return bytes;
}

function main(): void {
	const log = new TraceLog();
	const settings = readSettings(config);
	const timers = new DeviceTimers();
	const tls: MqttTlsConfig | undefined = settings.mqttTls ? {
		ca: resource(settings.caResource, "CA certificate"),
		certificate: resource(settings.certificateResource, "node certificate"),
		key: resource(settings.keyResource, "node key (PKCS#8 DER)"),
		alpn: settings.mqttAlpn || undefined,
	} : undefined;
	const session = new DeviceMqttSession({
		host: settings.mqttHost,
		port: settings.mqttPort,
		clientId: settings.nodeId,
		username: settings.mqttUser,
		keepAliveSeconds: settings.mqttKeepAliveSeconds,
		tls,	// back-off, connect timeout and packet limit: the core's MQTT_DEFAULTS
	}, timers, log);
	const downloadCa: ArrayBuffer[] = [];
	if (settings.downloadCaResource) {
		try {
			downloadCa.push(resource(settings.downloadCaResource, "download CA certificate"));
		}
		catch (error) {
			// plain-http test setups need no CA; https downloads then rely on the SDK's CA resources
			log.warn(`${error instanceof Error ? error.message : String(error)}; HTTPS downloads use the SDK's built-in CA certificates`);
		}
	}
	const firmware = startFirmware({
		session,
		timers,
		log,
		store: new PreferenceStore("rmaker_ota"),
		http: new DeviceHttpClient(timers, {trustedCertificates: downloadCa}),
		partition: new OtaUpdatePartition(),
		boot: new FfiBootControl(),
		createDigest: createCryptDigest,
	}, {
		nodeId: settings.nodeId,
		nodeName: settings.nodeName,
		nodeType: settings.nodeType,
		topicForm: settings.topicForm,
		ota: settings.ota,
	});
	installConsole((name, args, print) => firmware.command(name, args, print), {
		telnetPort: settings.telnetPort,
		openSerial: settings.serialConsole ? openSerialConsole : undefined,
	});
}

try {
	main();
}
catch (error) {
	// A configuration error must not reboot-loop the device (an uncaught exception restarts an
	// esp32): report it and stay idle, still running the old, valid image.
	trace(`rainmaker-ota-xs: not started: ${error instanceof Error ? error.message : String(error)}\n`);
}
