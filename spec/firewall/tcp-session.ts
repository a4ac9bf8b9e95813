/**
 * One long-lived TCP connection from inside a network namespace, for the
 * conntrack checks of both firewall drivers: each `say` sends a word over the
 * same connection and gives the echo, `FAILED <error>` when the connection
 * was cut (reset or timed out), or `NO ANSWER` after 5 s.
 */
import { spawn } from 'node:child_process';

export interface TcpSession {
  say(word: string): Promise<string>;
  close(): void;
}

const CLIENT = [
  'import socket, sys',
  's = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)',
  'for line in sys.stdin:',
  '    try:',
  '        s.sendall(line.encode()); print(s.recv(100).decode().strip() or "CLOSED")',
  '    except Exception as e:',
  '        print("FAILED", type(e).__name__)',
].join('\n');

export function openTcpSession(netns: string, host: string, port: number): TcpSession {
  const client = spawn('ip', ['netns', 'exec', netns, '/usr/bin/python3', '-u', '-c', CLIENT, host, String(port)], { stdio: ['pipe', 'pipe', 'ignore'] });
  const lines: string[] = [];
  client.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().trim().split('\n')));
  return {
    async say(word) {
      const before = lines.length;
      client.stdin!.write(`${word}\n`);
      const deadline = Date.now() + 5000;
      while (lines.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return lines[before] ?? 'NO ANSWER';
    },
    close: () => void client.kill('SIGKILL'),
  };
}
