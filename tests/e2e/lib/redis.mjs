// A private redis-server for a test: started on a free port of 127.0.0.1
// with no persistence, killed (or crashed on purpose) by the test, and
// restartable on the same port. Never touches a system Redis service.
import { spawn, execFileSync } from 'node:child_process';
import net from 'node:net';

// The redis-server binary, or null when it is not installed.
export function redisBinary() {
  for (const cand of [process.env.REDIS_SERVER, 'redis-server', '/usr/bin/redis-server', '/usr/sbin/redis-server']) {
    if (!cand) continue;
    try {
      execFileSync(cand, ['--version'], { stdio: 'ignore' });
      return cand;
    } catch { /* next */ }
  }
  return null;
}

// A port nobody listens on right now.
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Sends one RESP command and resolves with the raw reply text (or rejects).
export function redisCommand(port, ...args) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let out = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('redis: no reply')); }, 2000);
    sock.on('connect', () => {
      sock.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join(''));
    });
    sock.on('data', (d) => {
      out += d;
      if (out.endsWith('\r\n')) { clearTimeout(timer); sock.end(); resolve(out); }
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Starts redis-server on `port` (a free one if not given) and resolves once
// it answers PING. The handle can kill it (SIGKILL: a crash, no goodbye to
// clients) and start it again on the same port.
export async function startRedis({ port } = {}) {
  const bin = redisBinary();
  if (!bin) throw new Error('redis-server is not installed (apt-get install -y redis-server)');
  port = port || (await freePort());
  let child = null, log = '';
  const h = {
    port,
    url: `redis://127.0.0.1:${port}`,
    log: () => log,
    get running() { return child !== null && child.exitCode === null && child.signalCode === null; },
    async start() {
      if (h.running) return;
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--protected-mode', 'no', '--daemonize', 'no', '--loglevel', 'warning'];
      child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (d) => { log += d; });
      child.stderr.on('data', (d) => { log += d; });
      const deadline = Date.now() + 10000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`redis-server exited ${child.exitCode}: ${log}`);
        try {
          if ((await redisCommand(port, 'PING')).startsWith('+PONG')) return;
        } catch { /* not yet */ }
        if (Date.now() > deadline) throw new Error(`redis-server did not answer on ${port}: ${log}`);
        await sleep(50);
      }
    },
    // Kills the server the hard way and waits until the port is closed.
    async kill(signal = 'SIGKILL') {
      if (!h.running) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGCONT'); // a frozen one could not act on the signal
      child.kill(signal);
      await done;
    },
    async stop() { await h.kill('SIGTERM'); },
    // Stops the server (SIGSTOP) until thaw(): it accepts connections but
    // answers nothing, as a hung Redis, for as long as the test needs.
    freeze() { if (h.running) child.kill('SIGSTOP'); },
    thaw() { if (h.running) child.kill('SIGCONT'); },
  };
  await h.start();
  return h;
}
