// The baseline: Node.js's bare `http` module answering `hello world`, nothing else.
'use strict';
const http = require('http');
const port = Number(process.env.PORT || 18402);
http
  .createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('hello world');
  })
  .listen(port, '127.0.0.1');
