// The event bench's floor: node:http reading a request's body and parsing it as JSON, answering
// 200 with a small JSON body, as a function answers an event, and nothing else.
import { createServer } from 'node:http';

createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    JSON.parse(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"result":"ignored"}');
  });
}).listen(Number(process.env.PORT) || 8080, '127.0.0.1');
