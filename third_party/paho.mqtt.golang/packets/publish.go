/*
 * Copyright (c) 2021 IBM Corp and others.
 *
 * All rights reserved. This program and the accompanying materials
 * are made available under the terms of the Eclipse Public License v2.0
 * and Eclipse Distribution License v1.0 which accompany this distribution.
 *
 * The Eclipse Public License is available at
 *    https://www.eclipse.org/legal/epl-2.0/
 * and the Eclipse Distribution License is available at
 *   http://www.eclipse.org/org/documents/edl-v10.php.
 *
 * Contributors:
 *    Allan Stockdill-Mander
 */

package packets

import (
	"fmt"
	"io"
)

// PublishPacket is an internal representation of the fields of the
// Publish MQTT packet
type PublishPacket struct {
	FixedHeader
	TopicName string
	MessageID uint16
	Payload   []byte
	// Oversized is the length of a payload that ReadPacketLimited read
	// through and discarded (Payload is then nil); 0 otherwise.
	Oversized int
}

func (p *PublishPacket) String() string {
	return fmt.Sprintf("%s topicName: %s MessageID: %d payload: %s", p.FixedHeader, p.TopicName, p.MessageID, string(p.Payload))
}

func (p *PublishPacket) Write(w io.Writer) error {
	// One buffer of the packet's size (nodekeeper): the header, body and
	// packet buffers grew and copied the payload several times per packet.
	rl := 2 + len(p.TopicName) + len(p.Payload)
	if p.Qos > 0 {
		rl += 2
	}
	p.FixedHeader.RemainingLength = rl
	b := make([]byte, 0, 5+rl)
	b = append(b, p.FixedHeader.MessageType<<4|boolToByte(p.FixedHeader.Dup)<<3|p.FixedHeader.Qos<<1|boolToByte(p.FixedHeader.Retain))
	b = append(b, encodeLength(rl)...)
	b = append(b, byte(len(p.TopicName)>>8), byte(len(p.TopicName)))
	b = append(b, p.TopicName...)
	if p.Qos > 0 {
		b = append(b, byte(p.MessageID>>8), byte(p.MessageID))
	}
	b = append(b, p.Payload...)
	_, err := w.Write(b)
	return err
}

// Unpack decodes the details of a ControlPacket after the fixed
// header has been read
func (p *PublishPacket) Unpack(b io.Reader) error {
	var payloadLength = p.FixedHeader.RemainingLength
	var err error
	p.TopicName, err = decodeString(b)
	if err != nil {
		return err
	}

	if p.Qos > 0 {
		p.MessageID, err = decodeUint16(b)
		if err != nil {
			return err
		}
		payloadLength -= len(p.TopicName) + 4
	} else {
		payloadLength -= len(p.TopicName) + 2
	}
	if payloadLength < 0 {
		return fmt.Errorf("error unpacking publish, payload length < 0")
	}
	p.Payload = make([]byte, payloadLength)
	_, err = b.Read(p.Payload)

	return err
}

// Copy creates a new PublishPacket with the same topic and payload
// but an empty fixed header, useful for when you want to deliver
// a message with different properties such as Qos but the same
// content
func (p *PublishPacket) Copy() *PublishPacket {
	newP := NewControlPacket(Publish).(*PublishPacket)
	newP.TopicName = p.TopicName
	newP.Payload = p.Payload

	return newP
}

// Details returns a Details struct containing the Qos and
// MessageID of this ControlPacket
func (p *PublishPacket) Details() Details {
	return Details{Qos: p.Qos, MessageID: p.MessageID}
}
