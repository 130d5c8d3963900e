/*
 * Stand-in of Moddable's "securesocket" (modules/crypt/securesocket) on node:tls, taking the
 * same `secure` dictionary and applying Moddable's rules that matter for this firmware:
 * certificate = the CA (DER) to trust, clientCertificates = [DER], clientKey must be PKCS#8 DER
 * (ssl_cert.js parses PKCS#8 only), applicationLayerProtocolNegotiation = string or array,
 * protocolVersion 0x303 = TLS 1.2 minimum, the server name is the host. Callback protocol as the
 * socket stand-in; write room is the socket's minus 128 bytes (TLS overhead estimate).
 */
import {sharedState} from "./stand-in-state";
import {connect} from "node:tls";
import {createPrivateKey, X509Certificate} from "node:crypto";
import {StreamSocketStandIn} from "./socket";

type Der = ArrayBuffer | ArrayBufferView;

export interface SecureOptions {
	certificate?: Der;
	clientCertificates?: Der[];
	clientKey?: Der;
	applicationLayerProtocolNegotiation?: string | string[];
	protocolVersion?: number;
	verify?: boolean;
}

/** The last options each SecureSocket was made with (tests check what the adapters asked for). */
export const secureSocketLog = sharedState(
	"secureSocketLog",
	(): {host: string; port: number; secure: SecureOptions}[] => [],
);

function bytes(der: Der): Buffer {
	return der instanceof ArrayBuffer ? Buffer.from(der) : Buffer.from(der.buffer, der.byteOffset, der.byteLength);
}

function pem(der: Der): string {
	return new X509Certificate(bytes(der)).toString();
}

export default class SecureSocket extends StreamSocketStandIn {
	constructor(dictionary: {host?: string; address?: string; port?: number; secure?: SecureOptions}) {
		const host = dictionary.host ?? dictionary.address ?? "";
		const port = dictionary.port ?? 443;
		const secure = dictionary.secure ?? {};
		secureSocketLog.push({host, port, secure});
		const key = secure.clientKey
			? createPrivateKey({key: bytes(secure.clientKey), format: "der", type: "pkcs8"}).export({
					type: "pkcs8",
					format: "pem",
				})
			: undefined;
		const alpn = secure.applicationLayerProtocolNegotiation;
		const stream = connect({
			host,
			port,
			servername: /^[0-9.]+$/.test(host) ? undefined : host,
			ca: secure.certificate ? [pem(secure.certificate)] : undefined,
			cert: secure.clientCertificates?.map(pem),
			key,
			ALPNProtocols: alpn === undefined ? undefined : Array.isArray(alpn) ? alpn : [alpn],
			minVersion: secure.protocolVersion === 0x304 ? "TLSv1.3" : "TLSv1.2",
			maxVersion: "TLSv1.2",
			rejectUnauthorized: secure.verify !== false,
		});
		super(stream, "secureConnect", 128);
	}
}
