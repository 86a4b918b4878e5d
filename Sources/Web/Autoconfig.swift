/// Thunderbird's autoconfiguration file (`config-v1.1.xml`, the format of
/// https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat): every IMAP and
/// submission endpoint, the preferred first, logging in with the whole address.
///
///     <clientConfig version="1.1">
///       <emailProvider id="example.org">
///         <domain>example.org</domain>
///         <incomingServer type="imap">
///           <hostname>mail.example.org</hostname> <port>993</port> <socketType>SSL</socketType> …
enum Autoconfig {
    static func document(domain: String, settings: ClientSettings) -> String {
        func server(_ tag: String, _ type: String, _ e: ClientSettings.Endpoint) -> String {
            """
                <\(tag) type="\(type)">
                  <hostname>\(xmlEscaped(settings.hostname))</hostname>
                  <port>\(e.port)</port>
                  <socketType>\(e.security == .implicitTLS ? "SSL" : "STARTTLS")</socketType>
                  <username>%EMAILADDRESS%</username>
                  <authentication>password-cleartext</authentication>
                </\(tag)>

            """
        }
        let d = xmlEscaped(domain)
        let head = """
            <?xml version="1.0" encoding="UTF-8"?>
            <clientConfig version="1.1">
              <emailProvider id="\(d)">
                <domain>\(d)</domain>
                <displayName>\(d)</displayName>
                <displayShortName>\(d)</displayShortName>

            """
        let tail = """
              </emailProvider>
            </clientConfig>

            """
        let incoming = settings.imap.map { server("incomingServer", "imap", $0) }
        let outgoing = settings.submission.map { server("outgoingServer", "smtp", $0) }
        return ([head] + incoming + outgoing + [tail]).joined()
    }
}
