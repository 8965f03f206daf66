/**
 * The mesh peering's custom resource handler (the inline code of lib/infra/network-mesh.ts), run
 * against a recording stand-in of the EC2 client. Invariants: Create accepts in the peer region;
 * isComplete is false until the attachment is `available` (accepting again while it waits for
 * acceptance) and then associates it and adds the accepter's routes, tolerating work already done;
 * Delete removes those routes and tolerates their absence; any other error fails the deploy.
 */
import { describe, expect, it } from 'vitest';
import { PEERING_HANDLER } from '../../lib/infra/network-mesh.ts';

type Handler = (event: unknown) => Promise<Record<string, unknown>>;

interface Call {
  readonly command: string;
  readonly region: string;
  readonly input: Record<string, unknown>;
}

function handler(answer: (command: string, input: Record<string, unknown>) => unknown) {
  const calls: Call[] = [];
  const command = (name: string) =>
    class {
      readonly name = name;
      readonly input: Record<string, unknown>;
      constructor(input: Record<string, unknown>) {
        this.input = input;
      }
    };
  const sdk = {
    EC2Client: class {
      readonly config: { region: string };
      constructor(config: { region: string }) {
        this.config = config;
      }
      async send(c: { name: string; input: Record<string, unknown> }) {
        calls.push({ command: c.name, region: this.config.region, input: c.input });
        return answer(c.name, c.input);
      }
    },
    AcceptTransitGatewayPeeringAttachmentCommand: command('Accept'),
    DescribeTransitGatewayPeeringAttachmentsCommand: command('Describe'),
    AssociateTransitGatewayRouteTableCommand: command('Associate'),
    CreateTransitGatewayRouteCommand: command('CreateRoute'),
    DeleteTransitGatewayRouteCommand: command('DeleteRoute'),
  };
  const exports: Record<string, Handler> = {};
  new Function('require', 'exports', PEERING_HANDLER)((name: string) => {
    if (name !== '@aws-sdk/client-ec2') throw new Error(`unexpected require ${name}`);
    return sdk;
  }, exports);
  return { calls, onEvent: exports.onEvent as Handler, isComplete: exports.isComplete as Handler };
}

const props = {
  AttachmentId: 'tgw-attach-1',
  PeerRegion: 'eu-west-1',
  PeerRouteTableId: 'tgw-rtb-9',
  PeerRoutes: ['10.1.0.0/16'],
};
const event = (RequestType: string) => ({ RequestType, ResourceProperties: props });
const awsError = (name: string) => Object.assign(new Error(name), { name });

describe('the mesh peering handler', () => {
  it('accepts on Create in the peer region, waits for available, then associates and routes back', async () => {
    let state = 'initiatingRequest';
    const h = handler((command) => {
      if (command === 'Describe') return { TransitGatewayPeeringAttachments: [{ State: state }] };
      if (command === 'Accept' && state === 'initiatingRequest') throw awsError('IncorrectState');
      return {};
    });
    expect(await h.onEvent(event('Create'))).toEqual({ PhysicalResourceId: 'tgw-attach-1@eu-west-1' });
    expect(await h.isComplete(event('Create'))).toEqual({ IsComplete: false });
    state = 'pendingAcceptance';
    expect(await h.isComplete(event('Create'))).toEqual({ IsComplete: false });
    state = 'pending';
    expect(await h.isComplete(event('Create'))).toEqual({ IsComplete: false });
    state = 'available';
    expect(await h.isComplete(event('Create'))).toEqual({ IsComplete: true });
    expect(h.calls.every((c) => c.region === 'eu-west-1')).toBe(true);
    expect(h.calls.filter((c) => c.command === 'Accept')).toHaveLength(2);
    expect(h.calls.filter((c) => c.command !== 'Describe' && c.command !== 'Accept')).toEqual([
      {
        command: 'Associate',
        region: 'eu-west-1',
        input: { TransitGatewayRouteTableId: 'tgw-rtb-9', TransitGatewayAttachmentId: 'tgw-attach-1' },
      },
      {
        command: 'CreateRoute',
        region: 'eu-west-1',
        input: {
          TransitGatewayRouteTableId: 'tgw-rtb-9',
          DestinationCidrBlock: '10.1.0.0/16',
          TransitGatewayAttachmentId: 'tgw-attach-1',
        },
      },
    ]);
  });

  it('tolerates an association and routes already in place, and fails on any other error', async () => {
    const done = handler((command) => {
      if (command === 'Describe') return { TransitGatewayPeeringAttachments: [{ State: 'available' }] };
      if (command === 'Associate') throw awsError('Resource.AlreadyAssociated');
      if (command === 'CreateRoute') throw awsError('RouteAlreadyExists');
      return {};
    });
    expect(await done.isComplete(event('Update'))).toEqual({ IsComplete: true });
    const denied = handler((command) => {
      if (command === 'Describe') return { TransitGatewayPeeringAttachments: [{ State: 'available' }] };
      if (command === 'CreateRoute') throw awsError('UnauthorizedOperation');
      return {};
    });
    await expect(denied.isComplete(event('Create'))).rejects.toThrow('UnauthorizedOperation');
  });

  it('removes the accepter routes on Delete, tolerating their absence, and completes at once', async () => {
    const h = handler((command) => {
      if (command === 'DeleteRoute') throw awsError('InvalidRoute.NotFound');
      return {};
    });
    expect(await h.onEvent(event('Delete'))).toEqual({ PhysicalResourceId: 'tgw-attach-1@eu-west-1' });
    expect(h.calls.map((c) => c.command)).toEqual(['DeleteRoute']);
    expect(await h.isComplete(event('Delete'))).toEqual({ IsComplete: true });
  });
});
