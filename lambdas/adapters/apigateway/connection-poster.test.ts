import type { ConnectionPoster } from '../../domain/realtime/ports';
import { DeferredEndpointConnectionPoster } from './connection-poster';

describe('DeferredEndpointConnectionPoster (a function of an earlier stack reads the callback URL)', () => {
  const recordingPosters = () => {
    const posts: string[] = [];
    const posterFor = (endpoint: string): ConnectionPoster => ({
      post: async (connectionId, frame) => {
        posts.push(`${endpoint} ${connectionId} ${frame}`);
        return 'sent';
      },
    });
    return { posts, posterFor };
  };

  it('finds the endpoint once per process, on the first post, and posts every frame there', async () => {
    const findEndpoint = jest.fn(async () => 'https://ws.example/live');
    const { posts, posterFor } = recordingPosters();
    const poster = new DeferredEndpointConnectionPoster(findEndpoint, posterFor);
    expect(findEndpoint).not.toHaveBeenCalled();

    await Promise.all([poster.post('c1', 'a'), poster.post('c2', 'b')]);
    await expect(poster.post('c1', 'c')).resolves.toBe('sent');

    expect(findEndpoint).toHaveBeenCalledTimes(1);
    expect(posts).toEqual([
      'https://ws.example/live c1 a',
      'https://ws.example/live c2 b',
      'https://ws.example/live c1 c',
    ]);
  });

  it('fails the post when the lookup fails, and looks again on the next one', async () => {
    const findEndpoint = jest
      .fn<Promise<string>, []>()
      .mockRejectedValueOnce(new Error('ParameterNotFound'))
      .mockResolvedValue('https://ws.example/live');
    const { posts, posterFor } = recordingPosters();
    const poster = new DeferredEndpointConnectionPoster(findEndpoint, posterFor);

    await expect(poster.post('c1', 'a')).rejects.toThrow('ParameterNotFound');
    await expect(poster.post('c1', 'b')).resolves.toBe('sent');
    expect(findEndpoint).toHaveBeenCalledTimes(2);
    expect(posts).toEqual(['https://ws.example/live c1 b']);
  });
});
