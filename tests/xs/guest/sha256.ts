/*
 * SHA-256 in plain JavaScript (FIPS 180-4), incremental over Uint8Array chunks: the benchmarks'
 * yardstick of per-byte JS work in XS (the device path hashes with native code instead).
 */
const K = new Uint32Array([
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
	0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
	0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
	0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
]);

export class Sha256 {
	readonly #state = new Uint32Array([
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	]);
	readonly #block = new Uint8Array(64);
	readonly #words = new Uint32Array(64);
	#blockLength = 0;
	#length = 0;

	write(chunk: Uint8Array): void {
		this.#length += chunk.length;
		for (let i = 0; i < chunk.length; i++) {
			this.#block[this.#blockLength++] = chunk[i];
			if (this.#blockLength === 64) {
				this.#compress();
				this.#blockLength = 0;
			}
		}
	}

	close(): Uint8Array {
		const bits = this.#length * 8;
		this.write(new Uint8Array([0x80]));
		while (this.#blockLength !== 56) this.write(new Uint8Array(1));
		const tail = new Uint8Array(8);
		new DataView(tail.buffer).setUint32(0, Math.floor(bits / 0x100000000));
		new DataView(tail.buffer).setUint32(4, bits >>> 0);
		this.write(tail);
		const out = new Uint8Array(32);
		const view = new DataView(out.buffer);
		for (let i = 0; i < 8; i++) view.setUint32(i * 4, this.#state[i]);
		return out;
	}

	#compress(): void {
		const w = this.#words;
		const b = this.#block;
		for (let i = 0; i < 16; i++)
			w[i] = (b[i * 4] << 24) | (b[i * 4 + 1] << 16) | (b[i * 4 + 2] << 8) | b[i * 4 + 3];
		for (let i = 16; i < 64; i++) {
			const x = w[i - 15];
			const y = w[i - 2];
			const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
			const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
			w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
		}
		const s = this.#state;
		let a = s[0],
			c = s[2],
			d = s[3],
			e = s[4],
			f = s[5],
			g = s[6],
			h = s[7],
			bb = s[1];
		for (let i = 0; i < 64; i++) {
			const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
			const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
			const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
			const t2 = (S0 + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
			h = g;
			g = f;
			f = e;
			e = (d + t1) | 0;
			d = c;
			c = bb;
			bb = a;
			a = (t1 + t2) | 0;
		}
		s[0] += a;
		s[1] += bb;
		s[2] += c;
		s[3] += d;
		s[4] += e;
		s[5] += f;
		s[6] += g;
		s[7] += h;
	}
}
