// The envelope, result, policy, timeout and error types live in the I/O-free SMTP target;
// users of the client need only `import SMTPClient`.
@_exported import SMTP
@_exported import struct NIOSSL.TLSConfiguration
