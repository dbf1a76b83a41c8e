<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>OddsDesk::AuditWindow</name>
    <message numerus="yes">
        <source>%n entries</source>
        <translation>
            <numerusform>%n entry</numerusform>
            <numerusform>%n entries</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Exported %n entries to %1</source>
        <translation>
            <numerusform>Exported %n entry to %1</numerusform>
            <numerusform>Exported %n entries to %1</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>OddsDesk::BookModel</name>
    <message numerus="yes">
        <source>%n more selections not shown</source>
        <translation>
            <numerusform>%n more selection not shown</numerusform>
            <numerusform>%n more selections not shown</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>OddsDesk::Dashboard</name>
    <message numerus="yes">
        <source>p99 up to (ms); %n without samples yet</source>
        <translation>
            <numerusform>p99 up to (ms); %n without samples yet</numerusform>
            <numerusform>p99 up to (ms); %n without samples yet</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n acks in the last sample</source>
        <translation>
            <numerusform>%n ack in the last sample</numerusform>
            <numerusform>%n acks in the last sample</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>OddsDesk::SessionDetailWindow</name>
    <message numerus="yes">
        <source>Delivery latency of the last %n deliveries (ms)</source>
        <translation>
            <numerusform>Delivery latency of the last %n delivery (ms)</numerusform>
            <numerusform>Delivery latency of the last %n deliveries (ms)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Session report copied: the figures and %n timeline entries as of %1.</source>
        <translation>
            <numerusform>Session report copied: the figures and %n timeline entry as of %1.</numerusform>
            <numerusform>Session report copied: the figures and %n timeline entries as of %1.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>OddsDesk::SessionModel</name>
    <message numerus="yes">
        <source>%n telemetry events dropped: the client reported faster than allowed</source>
        <translation>
            <numerusform>%n telemetry event dropped: the client reported faster than allowed</numerusform>
            <numerusform>%n telemetry events dropped: the client reported faster than allowed</numerusform>
        </translation>
    </message>
</context>
</TS>
