/*
 * The mutual-TLS side of the probe (as the local cloud's broker: a client certificate from the
 * CA is required). Usage: node server.mjs <pki dir> [ms]   (the PKI of `rainmaker-ota-xs lin demo`,
 * .sim/lin-demo/pki). Prints whether the client authenticated, with its key type.
 */
import {createServer} from "node:tls";
import {readFileSync} from "node:fs";
const pki = process.argv[2] ?? ".sim/lin-demo/pki";
const server = createServer(
	{
		key: readFileSync(`${pki}/server.key`),
		cert: readFileSync(`${pki}/server.crt`) + readFileSync(`${pki}/ca.crt`),
		ca: readFileSync(`${pki}/ca.crt`),
		requestCert: true,
		rejectUnauthorized: true,
	},
	socket => {
		const peer = socket.getPeerCertificate();
		console.log(
			`server: handshake done, client authorized=${socket.authorized}, CN=${peer.subject?.CN}, key=${peer.asn1Curve ?? `${peer.bits}-bit RSA`}, cipher=${socket.getCipher().name}`,
		);
		socket.on("data", data => {
			console.log(`server: got ${data.toString().trim()}`);
			socket.end("bye\n");
		});
		socket.on("error", error => console.log(`server: socket error ${error.message}`));
	},
);
server.on("tlsClientError", error => console.log(`server: TLS client error: ${error.message}`));
server.listen(18884, "127.0.0.1", () => console.log("server: listening on 18884"));
setTimeout(() => process.exit(0), Number(process.argv[3] ?? 60000));
