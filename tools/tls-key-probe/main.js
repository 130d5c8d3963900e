/*
 * Probe: does the Moddable SDK's TLS client authenticate with a client key of this type? Built with
 * `mcconfig -m -p lin -t build kind=rsa|ec` in this directory (DER files: ca, rsa-cert, rsa-key,
 * ec-cert, ec-key; docs/device.md section 3 shows how they were made), run in mcsim against
 * server.mjs. Not part of the firmware.
 */
import SecureSocket from "securesocket";
import Resource from "Resource";
import config from "mc/config";
const kind = config.kind;
const secure = {
	protocolVersion: 0x0303,
	certificate: new Resource("ca.der").slice(0),
	clientCertificates: [new Resource(`${kind}-cert.der`).slice(0)],
	clientKey: new Resource(`${kind}-key.der`).slice(0),
};
trace(`ectls: ${kind} client key, connecting to localhost:${config.port}\n`);
try {
	const socket = new SecureSocket({host: "localhost", port: Number(config.port), secure});
	socket.callback = function (message, value) {
		trace(`ectls: callback ${message} ${value}\n`);
		if (message === 1) {
			trace("ectls: CONNECTED (handshake done)\n");
			this.write("hello\n");
		}
		if (message === 2) trace(`ectls: RECEIVED ${this.read(String)}\n`);
		if (message < 0) trace("ectls: ERROR\n");
	};
} catch (error) {
	trace(`ectls: EXCEPTION ${error}\n`);
}
