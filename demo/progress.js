// One live progress line: rewritten in place (\r) on a terminal, one line per update otherwise
// (CI logs, pipes).
'use strict'

function createProgress(stream = process.stdout) {
  const tty = Boolean(stream.isTTY)
  let shown = false
  return {
    update(line) {
      if (tty) {
        stream.write(`\r${line}\x1b[K`)
        shown = true
      } else {
        stream.write(`${line}\n`)
      }
    },
    done() {
      if (tty && shown) stream.write('\n')
      shown = false
    },
  }
}

module.exports = { createProgress }
